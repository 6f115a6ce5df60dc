/** Mozilla's list of common passwords (Firefox Accounts), a CommonJS module without types. */
declare module 'fxa-common-password-list' {
  const commonPasswords: {
    /** True when `password` is on the list (kept in lower case). */
    test(password: string): boolean;
  };
  export = commonPasswords;
}
