// The short form of an event or delivery id that log lines print (ids: engine/run/ids.ts).

/**
 * The prefix, the 9 time characters (to the millisecond) and 6 of the 16 random ones. Two ids
 * share it only when minted in the same millisecond with the same 24 random bits (about 1 in 16.7
 * million per such pair); every command that takes an id accepts it as a prefix and names the
 * candidates when it is ambiguous (engine/run/short-id.ts).
 */
export function shortId(id: string): string {
  return id.length > 19 ? id.slice(0, 19) : id;
}
