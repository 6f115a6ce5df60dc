/**
 * Passwords too common to allow, from an offline list: `fxa-common-password-list` (Mozilla's, for
 * Firefox Accounts), the 50,000 most common passwords of 8 characters or more in a list of ten
 * million leaked ones (the top million, by frequency: all of its first 130,000 that are that long).
 * Those are the ones an attacker guessing online tries first. Compared in lower case, as the list
 * is kept: "Password1" is refused as "password1" is. Nothing is sent anywhere.
 */
import commonPasswords from 'fxa-common-password-list';

export const COMMON_PASSWORD_MESSAGE =
  'password is one of the most common passwords, the first ones attackers try; choose another';

export function isCommonPassword(password: string): boolean {
  return commonPasswords.test(password.toLowerCase());
}
