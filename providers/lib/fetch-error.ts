// Text for a failed fetch(): undici puts the useful part (ECONNREFUSED, ENOTFOUND, bad port)
// in `cause`, and "fetch failed" alone tells a person nothing.

export function fetchErrorText(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } };
  const c = e?.cause;
  const detail = c?.code ?? c?.errors?.find((x) => x.code)?.code ?? c?.message;
  const msg = e?.message ?? String(err);
  return detail && detail !== msg ? `${msg} (${detail})` : msg;
}
