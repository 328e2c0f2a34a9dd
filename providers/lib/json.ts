// JSON text for an object some of whose values are already serialized, without parsing or
// serializing those values again (an event's stored JSON can be megabytes).

/**
 * `JSON.stringify({ ...raw parsed, ...values })`: `raw` maps keys to JSON texts (each must be
 * valid JSON, e.g. DeliveryRequest.eventJson), spliced in as they are; `values` are serialized.
 * Keys come out in that order, `raw` first.
 */
export function jsonObject(raw: Record<string, string>, values: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, text] of Object.entries(raw)) parts.push(`${JSON.stringify(k)}:${text}`);
  for (const [k, v] of Object.entries(values)) if (v !== undefined) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return `{${parts.join(',')}}`;
}
