// The written runbook and the scripts are two views of the same steps. This module renders a
// runbook as the skeleton of its written section (that is what --dry-run prints), parses the
// written runbook, and lists every difference between the two.

import { RUNBOOK_DOC } from './paths.ts';
import { anchorOf, type Runbook } from './runbook.ts';

export interface MirrorStep {
  readonly number: number;
  readonly anchor: string;
  readonly title: string;
  readonly commands: readonly string[];
  /** The file that defines the step (the `Code:` line under its heading). */
  readonly code?: string;
}

export interface MirrorSection {
  readonly id: string;
  readonly title: string;
  readonly steps: readonly MirrorStep[];
  /** The script that runs the section (the `Code:` line under its heading). */
  readonly script?: string;
}

const SECTION = /^## (.+?)\s*<a id="([^"]+)"><\/a>\s*$/;
const STEP = /^### (\d+)\. (.+?)\s*<a id="([^"]+)"><\/a>\s*$/;
const SUBHEADING = /^#{4,6} /;
const ANY_HEADING = /^#{1,6} /;
const FENCE = /^(```|~~~)\s*([A-Za-z0-9_-]*)/;
const CODE = /^Code: `([^`]+)`/;

/** The line under a section or step heading that names its code, one hop from the runbook. */
export const codeLine = (file: string, stepId?: string) => `Code: \`${file}\`${stepId ? ` (the step with \`id: '${stepId}'\`)` : ' (the script of this section; each step below names its own file)'}`;

export function sectionOf(runbook: Runbook): MirrorSection {
  return {
    id: runbook.id,
    title: runbook.title,
    ...(runbook.script ? { script: runbook.script } : {}),
    steps: runbook.steps.map((step, i) => ({
      number: i + 1,
      anchor: anchorOf(runbook, step),
      title: step.title,
      commands: step.commands.map((c) => c.render()),
      ...(step.code ? { code: step.code } : {}),
    })),
  };
}

/** What `--dry-run` prints: the runbook section's skeleton, in the runbook's own markup. */
export function formatDryRun(runbook: Runbook): string {
  const section = sectionOf(runbook);
  const lines = [
    `Dry run of \`make ${runbook.make}\`: nothing was executed. These are its steps, as written in ${runbook.doc ?? RUNBOOK_DOC}#${runbook.id}.`,
    '',
    `## ${section.title} <a id="${section.id}"></a>`,
    '',
    ...(section.script ? [codeLine(section.script), ''] : []),
  ];
  for (const step of section.steps) {
    lines.push(`### ${step.number}. ${step.title} <a id="${step.anchor}"></a>`, '');
    if (step.code) lines.push(codeLine(step.code, step.anchor.split('.').pop()), '');
    if (step.commands.length) lines.push('```bash', ...step.commands, '```', '');
  }
  return `${lines.join('\n')}`;
}

/** Join `\`-continued lines and drop blanks and comments: the commands a block runs. */
export function commandsOfBlock(lines: readonly string[]): string[] {
  const commands: string[] = [];
  let pending = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trimEnd()} `;
      continue;
    }
    commands.push((pending + line).trim());
    pending = '';
  }
  if (pending.trim()) commands.push(pending.trim());
  return commands;
}

export interface ParsedDoc {
  sections: Map<string, MirrorSection>;
  /** Every ```bash block anywhere in the document, as commands (for CLI validity checks). */
  allCommands: string[];
}

/** Parse runbook sections (level-2 headings with an anchor) and their numbered steps. */
export function parseRunbookDoc(markdown: string): ParsedDoc {
  type Step = { number: number; anchor: string; title: string; commands: string[]; code?: string };
  const sections = new Map<string, { id: string; title: string; steps: Step[]; script?: string }>();
  const allCommands: string[] = [];
  let section: ReturnType<typeof sections.get> | undefined;
  let step: Step | undefined;
  let inSubsection = false;
  let fence: { marker: string; lang: string; lines: string[] } | null = null;

  for (const line of markdown.split(/\r?\n/)) {
    if (fence) {
      if (line.trim().startsWith(fence.marker)) {
        if (fence.lang === 'bash') {
          const commands = commandsOfBlock(fence.lines);
          allCommands.push(...commands);
          if (step && !inSubsection) step.commands.push(...commands);
        }
        fence = null;
      } else {
        fence.lines.push(line);
      }
      continue;
    }
    const fenceStart = FENCE.exec(line.trim());
    if (fenceStart) {
      fence = { marker: fenceStart[1]!, lang: fenceStart[2] ?? '', lines: [] };
      continue;
    }
    const sectionMatch = SECTION.exec(line);
    if (sectionMatch) {
      section = { id: sectionMatch[2]!, title: sectionMatch[1]!.trim(), steps: [] };
      sections.set(section.id, section);
      step = undefined;
      inSubsection = false;
      continue;
    }
    if (line.startsWith('## ')) {
      section = undefined; // a prose section without an anchor
      step = undefined;
      continue;
    }
    const stepMatch = STEP.exec(line);
    if (stepMatch && section) {
      step = { number: Number(stepMatch[1]), title: stepMatch[2]!.trim(), anchor: stepMatch[3]!, commands: [] };
      section.steps.push(step);
      inSubsection = false;
      continue;
    }
    const code = CODE.exec(line);
    if (code && section && !inSubsection) {
      if (step) step.code ??= code[1];
      else section.script ??= code[1];
      continue;
    }
    if (SUBHEADING.test(line)) {
      inSubsection = true; // troubleshooting and notes under a step are prose, not its commands
      continue;
    }
    if (ANY_HEADING.test(line)) {
      step = undefined;
      inSubsection = false;
    }
  }
  return { sections: sections as Map<string, MirrorSection>, allCommands };
}

/** Every way the written section differs from the script; empty when they mirror each other. */
export function compareSections(doc: MirrorSection | undefined, script: MirrorSection, docName = RUNBOOK_DOC): string[] {
  if (!doc) return [`${docName} has no section "## ${script.title} <a id="${script.id}"></a>" for this runbook`];
  const problems: string[] = [];
  if (doc.title !== script.title) problems.push(`section title: the runbook says "${doc.title}", the script says "${script.title}"`);
  if (script.script && doc.script !== script.script) problems.push(`the section's Code: line names ${doc.script ?? 'nothing'}, the runbook is defined in ${script.script} (${codeLine(script.script)})`);
  const count = Math.max(doc.steps.length, script.steps.length);
  for (let i = 0; i < count; i++) {
    const d = doc.steps[i];
    const s = script.steps[i];
    if (!d) {
      problems.push(`step ${i + 1} (${s!.anchor}, "${s!.title}") is in the script but not in the runbook`);
      continue;
    }
    if (!s) {
      problems.push(`step ${i + 1} (${d.anchor}, "${d.title}") is in the runbook but not in the script`);
      continue;
    }
    if (d.number !== i + 1) problems.push(`step ${i + 1} (${d.anchor}) is numbered ${d.number} in the runbook`);
    if (d.anchor !== s.anchor) problems.push(`step ${i + 1}: the runbook has ${d.anchor}, the script has ${s.anchor} (steps missing or out of order)`);
    if (d.title !== s.title) problems.push(`step ${i + 1} (${s.anchor}) title: the runbook says "${d.title}", the script says "${s.title}"`);
    if (s.code && d.code !== s.code) problems.push(`step ${i + 1} (${s.anchor}) Code: line names ${d.code ?? 'nothing'}, the step is defined in ${s.code} (${codeLine(s.code, s.anchor.split('.').pop())})`);
    const n = Math.max(d.commands.length, s.commands.length);
    for (let j = 0; j < n; j++) {
      if (d.commands[j] === s.commands[j]) continue;
      problems.push(
        `step ${i + 1} (${s.anchor}) command ${j + 1} differs:\n    runbook: ${d.commands[j] ?? '(none)'}\n    script:  ${s.commands[j] ?? '(none)'}`,
      );
    }
  }
  return problems;
}
