// Executable entry of the fake tofu (built into the fake bin directory by install.ts).
import { main } from './tofu.ts';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
