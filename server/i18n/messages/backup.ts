const th = {
  'backup.title': 'การสำรองข้อมูล',
  'backup.last': 'สำรองล่าสุด',
  'backup.none': 'ยังไม่มีไฟล์สำรองข้อมูล',
  'backup.size': 'ขนาด',
  'backup.file': 'ไฟล์',
  'backup.folder': 'โฟลเดอร์',
  'backup.count': 'จำนวนไฟล์สำรอง',
  'backup.kind': 'ประเภท',
  'backup.kind.daily': 'อัตโนมัติรายวัน',
  'backup.kind.manual': 'สั่งด้วยคำสั่ง npm run backup',
  'backup.kind.pre-migration': 'ก่อนปรับโครงสร้างฐานข้อมูล',
  'backup.kind.pre-restore': 'ก่อนกู้คืนข้อมูล',
  'backup.kind.regular': 'ปกติ',
  'backup.check': 'ผลการตรวจ',
  'backup.verified': 'ตรวจแล้ว ถูกต้อง (integrity และห่วงโซ่บันทึกการตรวจสอบ)',
  'backup.notVerified': 'ยังไม่ผ่านการตรวจ',
  'backup.warnMissing': 'ยังไม่เคยสำรองข้อมูล ให้สั่ง npm run backup บนเครื่องแม่ข่าย และคัดลอกไฟล์ไปเก็บนอกเครื่อง',
  'backup.warnStale': 'ไฟล์สำรองล่าสุดเก่ากว่า ๒ วัน ตรวจสอบว่าการสำรองอัตโนมัติทำงานอยู่ หรือสั่ง npm run backup',
  'backup.warnUnverified': 'ไฟล์สำรองล่าสุดตรวจไม่ผ่าน ดูรายละเอียดในไฟล์ .json ข้างไฟล์สำรอง และแจ้งผู้ดูแลระบบ',
  'backup.offsite': 'ไฟล์สำรองอยู่บนเครื่องเดียวกับฐานข้อมูล ควรคัดลอกไปเก็บนอกเครื่องเป็นประจำ (ดู README หัวข้อ Running it in an office)',
  'backup.postgres':
    'ระบบนี้เก็บข้อมูลบนเซิร์ฟเวอร์ PostgreSQL: ผู้ดูแลเซิร์ฟเวอร์สำรองด้วย pg_dump พร้อมคัดลอกโฟลเดอร์ข้อมูล (กุญแจ บันทึกยึดโยงการตรวจสอบ และไฟล์แนบ) ทุกวัน และเก็บไว้นอกเครื่อง (ดู README หัวข้อ PostgreSQL)',
  'backup.postgresFolder': 'โฟลเดอร์ข้อมูล',
  'backup.hosted':
    'หน่วยงานนี้เป็นหนึ่งในหลายหน่วยงานบนเซิร์ฟเวอร์ PostgreSQL เดียวกัน ข้อมูลของหน่วยงานอยู่ใน schema ของตนเอง และกุญแจ บันทึกยึดโยงการตรวจสอบ และไฟล์แนบอยู่ในโฟลเดอร์ของตนเอง ผู้ดูแลเซิร์ฟเวอร์สำรองทั้งสองอย่างพร้อมกันทุกวันด้วยคำสั่งด้านล่าง (DATABASE_URL ของเซิร์ฟเวอร์) และเก็บไว้นอกเครื่อง',
  'backup.hostedSchema': 'schema ของหน่วยงาน',
  'backup.hostedFolder': 'โฟลเดอร์ของหน่วยงาน',
  'backup.hostedBackupTitle': 'สำรองข้อมูลหน่วยงานนี้',
  'backup.hostedKeys':
    'ไฟล์กุญแจ session.key และ audit-anchor.key ไม่อยู่ในไฟล์สำรอง ให้คัดลอกเก็บแยกไว้ครั้งเดียว (ไฟล์ไม่เปลี่ยน) หากโฟลเดอร์ของหน่วยงานสูญหาย ให้วางกุญแจคืนก่อนเริ่มเซิร์ฟเวอร์',
  'backup.hostedRestoreTitle': 'กู้คืนหน่วยงานนี้',
  'backup.hostedRestore':
    'หยุดเซิร์ฟเวอร์ก่อน (ทุกหน่วยงานบนเซิร์ฟเวอร์จะหยุดชั่วครู่) ลบ schema เดิม โหลดไฟล์สำรองกลับเข้า schema ของหน่วยงาน วางไฟล์ในโฟลเดอร์ของหน่วยงานกลับคืน แล้วเริ่มเซิร์ฟเวอร์ใหม่ หน่วยงานอื่นไม่ได้รับผลกระทบ',
  'backup.hostedAnchor': 'อย่าวาง audit-anchor.log ที่เก่ากว่าทับไฟล์ปัจจุบัน หลังกู้คืน หน้าบันทึกการตรวจสอบจะแจ้งรายการที่หายไปกับการกู้คืน (ดู README หัวข้อ Hosting many agencies)',
}

const en: Record<keyof typeof th, string> = {
  'backup.title': 'Backups',
  'backup.last': 'Last backup',
  'backup.none': 'No backup yet',
  'backup.size': 'Size',
  'backup.file': 'File',
  'backup.folder': 'Folder',
  'backup.count': 'Backups kept',
  'backup.kind': 'Kind',
  'backup.kind.daily': 'Daily (automatic)',
  'backup.kind.manual': 'Manual (npm run backup)',
  'backup.kind.pre-migration': 'Before a schema upgrade',
  'backup.kind.pre-restore': 'Before a restore',
  'backup.kind.regular': 'Regular',
  'backup.check': 'Check',
  'backup.verified': 'Verified (integrity and audit chain)',
  'backup.notVerified': 'Not verified',
  'backup.warnMissing': 'There is no backup yet. Run npm run backup on the server and copy the file off the machine.',
  'backup.warnStale': 'The last backup is more than 2 days old. Check that the automatic backup runs, or run npm run backup.',
  'backup.warnUnverified': 'The last backup failed its check. See the .json file beside it and tell the administrator.',
  'backup.offsite': 'Backups sit on the same machine as the database; copy them off the machine regularly (README, “Running it in an office”).',
  'backup.postgres':
    'This agency runs on a PostgreSQL server: its operator backs it up daily with pg_dump plus a copy of the data folder (keys, audit anchor, attachments), kept off the machine (README, “PostgreSQL”).',
  'backup.postgresFolder': 'Data folder',
  'backup.hosted':
    'This agency is one of several on one PostgreSQL server: its data is its own schema, and its keys, audit anchor and attachments are its own folder. The server’s operator backs up both together every day with the commands below (the server’s DATABASE_URL) and keeps the copies off the machine.',
  'backup.hostedSchema': 'The agency’s schema',
  'backup.hostedFolder': 'The agency’s folder',
  'backup.hostedBackupTitle': 'Backing up this agency',
  'backup.hostedKeys':
    'The key files session.key and audit-anchor.key are left out of the archive: copy them apart, once (they do not change). If the agency’s folder is lost, put them back before starting the server.',
  'backup.hostedRestoreTitle': 'Restoring this agency',
  'backup.hostedRestore':
    'Stop the server first (every agency on it stops a moment), drop the schema, load the dump back into the agency’s schema, put the agency’s folder back, and start the server. No other agency is touched.',
  'backup.hostedAnchor':
    'Never put an older audit-anchor.log over the current one: after a restore the audit page reports the entries the restore lost (README, “Hosting many agencies”).',
}

export const backup = { th, en }
