// The short form of an event or delivery id that log lines print (ids: engine/run/ids.ts).

/**
 * The prefix, the 9 time characters (to the millisecond) and the 6 that count up within it. One
 * process never mints two with the same short form; ids from two processes share it only when
 * minted in the same millisecond from the same random start (about 1 in 8 million per such
 * pair), and every command that takes an id accepts it as a prefix and names the candidates when
 * it is ambiguous (engine/run/short-id.ts).
 */
export function shortId(id: string): string {
  return id.length > 19 ? id.slice(0, 19) : id;
}
