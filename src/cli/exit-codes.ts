/** SPEC §2 exit codes. */
export const EXIT = {
  ok: 0,
  specErrors: 1,
  usage: 2,
  backend: 3,
  differs: 4,
} as const;
