/**
 * The part of unzipper (installed with exceljs, which reads every XLSX through it) that the
 * register import uses: the central directory of a ZIP held in memory, and one entry's bytes.
 */
declare module 'unzipper' {
  import type { Readable } from 'node:stream'

  export interface CentralDirectoryFile {
    path: string
    type: 'File' | 'Directory'
    compressionMethod: number
    compressedSize: number
    uncompressedSize: number
    /** The entry inflated, as the bytes come; nothing checks them against uncompressedSize. */
    stream(password?: string): Readable
  }

  export interface CentralDirectory {
    files: CentralDirectoryFile[]
  }

  export const Open: {
    buffer(data: Buffer): Promise<CentralDirectory>
  }

  const unzipper: { Open: typeof Open }
  export default unzipper
}
