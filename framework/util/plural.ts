/** `count(1, 'run')` -> "1 run", `count(2, 'run')` -> "2 runs": counts in messages read as English. */
export const count = (n: number, word: string, plural = `${word}s`): string => `${n} ${n === 1 ? word : plural}`;
