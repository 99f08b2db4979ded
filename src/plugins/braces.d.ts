/** The part of `braces` (bash brace expansion, micromatch's) that the plugins' `$.braces` uses. */
declare module 'braces' {
  interface Braces {
    /** Every string the pattern expands to, as bash's brace expansion gives them. */
    expand(pattern: string): string[];
  }
  const braces: Braces;
  export default braces;
}
