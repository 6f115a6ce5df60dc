/**
 * The characters a ticket's title may not hold, as the tickets service decides them
 * (services/tickets/src/domain/title-characters.ts, which says why; a test holds the two to the
 * same answers): control characters and line breaks, invisible format characters (text direction
 * controls, zero-width spaces and joiners, a byte order mark...) and the Hangul fillers. The
 * zero-width joiner inside an emoji sequence (👩‍💻) and the tags of a flag (🏴 of England) pass.
 */
const EMOJI_JOINER =
  /(?<=\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})/gu;
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

/** The API's message for it, as the form shows the API's messages. */
export const refusedTitleMessage = (character: string): string =>
  `Title must not contain line breaks, control characters, invisible characters or text direction controls (it has ${character})`;
