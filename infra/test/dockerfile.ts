/**
 * A Dockerfile read into stages of instructions: enough to check what the images are made of
 * without a Docker engine. Handles comments, line continuations, `ARG`s before the first `FROM`
 * and the exec (JSON) form of arguments.
 */
export interface Instruction {
  keyword: string;
  /** The arguments as written (continuations joined). */
  args: string;
}

export interface Stage {
  /** The base image as written (`${NODE_IMAGE}` stays unexpanded). */
  from: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARG instructions before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) || (pending === '' && line.trim() === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push((pending + line.trim()).trim());
    pending = '';
  }
  if (pending !== '') throw new Error('Dockerfile ends inside a line continuation');

  const result: Dockerfile = { globalArgs: {}, stages: [] };
  for (const line of logical) {
    const match = /^(\S+)\s+([\s\S]*)$/.exec(line);
    if (!match) throw new Error(`cannot read Dockerfile line: ${line}`);
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`cannot read FROM ${args}`);
      result.stages.push({ from: from[1]!, ...(from[2] ? { name: from[2] } : {}), instructions: [] });
      continue;
    }
    const stage = result.stages.at(-1);
    if (!stage) {
      if (keyword !== 'ARG') throw new Error(`${keyword} before the first FROM`);
      const [name, value = ''] = args.split('=', 2) as [string, string?];
      result.globalArgs[name] = value;
      continue;
    }
    stage.instructions.push({ keyword, args });
  }
  return result;
}

/** The words of an exec-form (JSON array) argument list, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const value: unknown = JSON.parse(args);
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    throw new Error(`not an exec form: ${args}`);
  return value;
}

/** `ENV A=1 B=2` (or `ENV A 1`) as a record. */
export function envOf(args: string): Record<string, string> {
  if (!args.includes('=')) {
    const [name, ...value] = args.split(/\s+/);
    return { [name!]: value.join(' ') };
  }
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[match[1]!] = match[2]!.replace(/^"|"$/g, '');
  return env;
}

/** The `COPY` instructions of a stage: sources, destination, and the stage copied from if any. */
export function copies(stage: Stage): Array<{ from?: string; sources: string[]; destination: string }> {
  return stage.instructions
    .filter((instruction) => instruction.keyword === 'COPY')
    .map((instruction) => {
      const words = execForm(instruction.args) ?? instruction.args.split(/\s+/);
      const flags = words.filter((word) => word.startsWith('--'));
      const paths = words.filter((word) => !word.startsWith('--'));
      const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
      return { ...(from ? { from } : {}), sources: paths.slice(0, -1), destination: paths.at(-1)! };
    });
}
