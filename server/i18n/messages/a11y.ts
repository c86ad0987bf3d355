/** Words only screen readers hear, found by the axe-core checks of test/e2e/journeys.test.ts. */
const th = {
  'a11y.pickColumn': 'เลือก',
} as const

const en: Record<keyof typeof th, string> = {
  'a11y.pickColumn': 'Select',
}

export const a11y = { th, en }
