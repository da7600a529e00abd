// make infra-validate: OpenTofu itself checks the configuration's formatting and validity, which
// the offline tests under test/infra cannot. Needs no state and no credentials, only the
// provider downloads of init; CI runs it on every pull request.

import { tofu } from './lib/cli.ts';
import { runIfMain } from './lib/engine.ts';
import { INFRA_DIR } from './lib/infra.ts';
import { defineRunbook } from './lib/runbook.ts';

export const infraValidate = defineRunbook({
  id: 'infra-validate',
  title: 'Validate the OpenTofu configuration',
  make: 'infra-validate',
  doc: 'infra/README.md',
  steps: [
    { id: 'fmt', title: "Check the configuration's formatting", commands: [tofu`fmt -check -recursive infra`] },
    { id: 'init', title: 'Install the providers and modules, without the state backend', commands: [tofu`-chdir=${INFRA_DIR} init -backend=false -input=false`] },
    { id: 'validate', title: 'Validate the production configuration', commands: [tofu`-chdir=${INFRA_DIR} validate -no-color`] },
  ],
});

runIfMain(import.meta.url, infraValidate);
