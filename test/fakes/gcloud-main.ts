// Executable entry of the fake gcloud (built into the fake bin directory by install.ts).
import { main } from './gcloud.ts';

process.exitCode = main(process.argv.slice(2));
