/**
 * Characters a ticket's title may not hold: what would let one listing pass for another, or break
 * the line it is shown on, without a reader seeing why.
 *
 * - control characters (Unicode's Cc: tabs, line feeds and the like) and the line and paragraph
 *   separators (U+2028, U+2029): a title is one line;
 * - format characters (Cf), which are invisible: the bidirectional embeddings, overrides and
 *   isolates (U+202A–U+202E, U+2066–U+2069) that reorder what follows them ("‮Concert" shows
 *   backwards), the direction marks, zero-width spaces, joiners and non-joiners (U+200B–U+200D),
 *   the word joiner (U+2060), the byte order mark (U+FEFF), soft hyphens and their kind;
 * - the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), letters that draw nothing.
 *
 * Two format characters are part of emoji, and are allowed there only: the zero-width joiner
 * (U+200D) between two pictographs (each perhaps with its variation selector or skin tone), as in
 * 👩‍💻 and 🏳️‍🌈; and the tag characters after a black flag (🏴 U+1F3F4 ... U+E007F), as in the flag of
 * England. A joiner anywhere else is refused, the ones some scripts use between letters included:
 * a title reads the same without it.
 */

/** A zero-width joiner inside an emoji ZWJ sequence. */
const EMOJI_JOINER =
  /(?<=\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})/gu;
/** An emoji tag sequence: a black flag, tags, a cancel tag. */
const EMOJI_TAGS = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu;
const REFUSED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/u;

/** The first character of `title` that a title may not hold, as `U+202E`; undefined if none. */
export function refusedTitleCharacter(title: string): string | undefined {
  const rest = title.replace(EMOJI_TAGS, '').replace(EMOJI_JOINER, '');
  const found = REFUSED.exec(rest)?.[0];
  return found === undefined
    ? undefined
    : `U+${found.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

export const refusedTitleMessage = (character: string, field = 'title'): string =>
  `${field} must not contain line breaks, control characters, invisible characters or text direction controls (it has ${character})`;
