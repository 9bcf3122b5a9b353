// The one way a parameter reaches an iPXE script: {{name}} placeholders filled with values that
// cannot change the script's structure. iPXE reads a newline as the end of a command, `||` and
// `&&` as chaining, `${...}` as expansion and `#` at a word start as a comment; a value holding
// any of them could turn "kernel args" into "run this instead", so it is refused, never escaped.

export class TemplateError extends Error {
  constructor(
    readonly code: 'UnsafeParameterValue' | 'MissingParameter' | 'InvalidParameterName',
    /** The parameter at fault, so a condition or an HTTP answer can name it. */
    readonly parameter: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
// Control characters (newline, NUL, escape ...), `;`, `${`, `||`, `&&`, a backtick, and `#` at
// the start of a word (an iPXE comment that would swallow the rest of the line).
const UNSAFE: readonly [RegExp, string][] = [
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  [/[\u0000-\u001f\u007f]/, 'a control character (newline, tab, NUL ...)'],
  [/;/, '";"'],
  [/\$\{/, '"${"'],
  [/\|\|/, '"||"'],
  [/&&/, '"&&"'],
  [/`/, 'a backtick'],
  [/(^|\s)#/, '"#" at the start of a word'],
];

/** Why a value is unsafe, or undefined when it is safe. */
export function unsafeReason(value: string): string | undefined {
  for (const [pattern, what] of UNSAFE) if (pattern.test(value)) return what;
  return undefined;
}

/**
 * Why a profile's own kernel command line is unsafe. The profile author may use ";" (iPXE does
 * not split commands on it, and Ubuntu's `ds=nocloud-net;s=URL` needs it); parameter values,
 * which come from assignments, may not.
 */
export function unsafeCmdlineReason(cmdline: string): string | undefined {
  for (const [pattern, what] of UNSAFE) if (what !== '";"' && pattern.test(cmdline)) return what;
  return undefined;
}

/** Throws TemplateError naming the first parameter whose name or value is unsafe. */
export function checkParameters(parameters: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(parameters)) {
    if (!NAME.test(name)) {
      throw new TemplateError('InvalidParameterName', name, `parameter name ${JSON.stringify(name)} must start with a letter or "_" and hold only letters, digits, "_", "." and "-"`);
    }
    const reason = unsafeReason(value);
    if (reason) {
      throw new TemplateError('UnsafeParameterValue', name, `parameter ${name} contains ${reason}, which would change the iPXE script's structure; remove it from the value`);
    }
  }
}

/**
 * Fills {{name}} placeholders. Every parameter is checked (used or not, so a bad override is
 * reported even before a template starts using it); a placeholder without a value is an error.
 */
export function renderTemplate(template: string, parameters: Readonly<Record<string, string>>): string {
  checkParameters(parameters);
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = parameters[name];
    if (value === undefined) {
      throw new TemplateError('MissingParameter', name, `placeholder {{${name}}} has no value: set parameters.${name} on the BootProfile or the NodeBootAssignment`);
    }
    return value;
  });
}

/** The placeholder names a template uses, in order of first use. */
export function placeholders(template: string): string[] {
  const names = new Set<string>();
  for (const m of template.matchAll(PLACEHOLDER)) names.add(m[1]!);
  return [...names];
}
