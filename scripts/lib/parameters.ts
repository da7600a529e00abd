// What a make target reads, declared once: the engine's own switches, the runbook's parameters,
// the configuration its commands use, the tool overrides, and all of these for every runbook it
// runs in turn. The same declarations refuse a misspelled `make` variable and print `HELP=1`.

import { MAKE } from './cli.ts';
import { closest } from './config.ts';
import { PRODUCTION_VARS, type VarSpec } from './env-schema.ts';
import { runbookForTarget } from './nested.ts';
import { RUNBOOK_DOC } from './paths.ts';
import { configVarsOf, type Runbook } from './runbook.ts';

/** Read by the engine for every target. */
export const ENGINE_PARAMS: readonly VarSpec[] = [
  { name: 'DRY_RUN', description: '1: check the configuration, then print the steps, their commands and what each variable resolves to; run nothing.', example: '' },
  { name: 'YES', description: '1: answer yes to every confirmation (CI=true does too). `--yes` is the same for a script run with node.', example: '' },
  { name: 'JSON', description: '1: print the result as JSON on stdout, for targets that have one (progress goes to stderr).', example: '' },
  { name: 'HELP', description: '1: print this help and run nothing.', example: '' },
  { name: 'ENV', description: 'Read env/<ENV>.env (default production).', example: '' },
  { name: 'ENV_FILE', description: 'Read this configuration file instead of env/<ENV>.env.', example: '' },
  { name: 'CI', description: 'true: never prompt (as YES=1) and print plain progress lines.', example: '' },
  { name: 'RUNS_DIR', description: 'Directory for the run logs (default .runs/).', example: '' },
];

export interface TargetParameters {
  /** The runbook's own parameters and those of every runbook it runs, with who reads each. */
  readonly params: readonly { spec: VarSpec; readBy: string }[];
  /** Configuration variables its commands and steps read (env file or environment). */
  readonly config: readonly VarSpec[];
  /** Overrides of the tools its commands run (TOFU_BIN, ...). */
  readonly tools: readonly VarSpec[];
  readonly engine: readonly VarSpec[];
}

/** Everything `make <target>` reads, including the runbooks it runs as steps. */
export async function parametersOf(runbook: Runbook): Promise<TargetParameters> {
  const params = new Map<string, { spec: VarSpec; readBy: string }>();
  const configNames = new Set<string>();
  const tools = new Map<string, VarSpec>();
  const visited = new Set<string>();
  const visit = async (r: Runbook) => {
    if (visited.has(r.make)) return;
    visited.add(r.make);
    for (const spec of r.params ?? []) if (!params.has(spec.name)) params.set(spec.name, { spec, readBy: r.make });
    for (const name of configVarsOf(r)) configNames.add(name);
    for (const step of r.steps) {
      for (const command of step.commands) {
        const program = command.program;
        if (program.overrideEnv && !tools.has(program.overrideEnv)) {
          tools.set(program.overrideEnv, { name: program.overrideEnv, description: `Path to ${program.display} (default: found on PATH).`, example: '' });
        }
        if (program === MAKE) {
          const nested = await runbookForTarget(command.render().split(' ').pop()!);
          if (nested) await visit(nested);
        }
      }
    }
  };
  await visit(runbook);
  const config = PRODUCTION_VARS.filter((spec) => configNames.has(spec.name) && !params.has(spec.name));
  return { params: [...params.values()], config, tools: [...tools.values()], engine: ENGINE_PARAMS };
}

function namesOf(p: TargetParameters): string[] {
  return [...p.engine, ...p.tools, ...p.config, ...p.params.map((x) => x.spec)].map((s) => s.name);
}

/**
 * The variables given on make's command line (`make target NAME=value`), from MAKEFLAGS as
 * the top-level make passes it to its recipe; empty outside make. Variables from the
 * environment (`NAME=value make target`) are not among them: the environment holds everything.
 */
export function commandLineVars(env: NodeJS.ProcessEnv): Map<string, string> {
  const found = new Map<string, string>();
  // A make started by a script or a recipe inherits the same MAKEFLAGS: only the first level is the person's.
  if (env.MAKELEVEL !== '1' || !env.MAKEFLAGS) return found;
  const flags = env.MAKEFLAGS;
  const at = flags.startsWith('-- ') ? 0 : flags.indexOf(' -- ');
  if (at < 0) return found;
  const rest = flags.slice(at === 0 ? 3 : at + 4);
  // Words are separated by unescaped spaces; make escapes spaces and backslashes in values.
  for (const word of rest.match(/(?:\\.|[^ ])+/g) ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)[:+?]?=(.*)$/s.exec(word.replace(/\\(.)/g, '$1'));
    if (m) found.set(m[1]!, m[2]!);
  }
  return found;
}

/** Problems with the variables given on make's command line: unknown names and empty values. */
export function commandLineProblems(runbook: Runbook, p: TargetParameters, given: ReadonlyMap<string, string>): string[] {
  const known = namesOf(p);
  const valued = new Set([...p.config, ...p.params.map((x) => x.spec)].map((s) => s.name));
  const problems: string[] = [];
  for (const [name, value] of given) {
    if (!known.includes(name)) {
      const guess = closest(name, known);
      problems.push(
        `${name}=${value ? '...' : ''} on the command line is not read by make ${runbook.make}${guess ? ` (did you mean ${guess}?)` : ''}: ` +
          `it would be ignored. Fix its name or leave it out; make ${runbook.make} HELP=1 lists what it reads.`,
      );
    } else if (value === '' && valued.has(name)) {
      problems.push(`${name}= is empty on the command line, and an empty value would fall back to the configuration file: give a value or leave it out.`);
    }
  }
  return problems;
}

/** `make <target> HELP=1`: every variable the target reads, one line each. */
export function formatHelp(runbook: Runbook, p: TargetParameters, required: ReadonlySet<string>): string {
  const width = Math.max(...namesOf(p).map((n) => n.length)) + 2;
  const line = (spec: VarSpec, extra = '') =>
    `  ${spec.name.padEnd(width)}${spec.description}${spec.default !== undefined ? ` Default: ${spec.default}.` : ''}${required.has(spec.name) ? ' Required.' : ''}${extra}`;
  const out = [`make ${runbook.make}: ${runbook.title}`, `Runbook: ${runbook.doc ?? RUNBOOK_DOC}#${runbook.id}${runbook.script ? ` · code: ${runbook.script}` : ''}`, ''];
  if (p.params.length) {
    out.push(`Parameters (make ${runbook.make} NAME=value):`);
    for (const { spec, readBy } of p.params) out.push(line(spec, readBy === runbook.make ? '' : ` (read by make ${readBy}, which this runs)`));
    out.push('');
  }
  if (p.config.length) {
    out.push('Configuration (env/<ENV>.env, the environment, or NAME=value):');
    for (const spec of p.config) out.push(line(spec));
    out.push('');
  }
  out.push('Every target:');
  for (const spec of [...p.engine, ...p.tools]) out.push(line(spec));
  out.push(
    '',
    'Exit codes: 0 done, 1 a step failed, 2 bad input or configuration, 130 interrupted.',
    `make itself exits 2 on any failure; the code above is in its last line ("make: *** [...] Error 1").`,
    '',
  );
  return out.join('\n');
}
