// node --import tsx scripts/lib/local-ports.ts: prints the port base the local stack's parts
// start on (see choosePortBase in local-state.ts: LOCAL_PORT_BASE, else the one the stack was set
// up with, else 4000), after checking that every port a part still has to take is free.
// The first step of make local-up and make local-deploy; by hand, its output goes into
// LOCAL_PORT_BASE for each `dev/local/stack.ts start`. Exit 2: LOCAL_PORT_BASE would move a
// running stack (or is not a port). Exit 1: a port is taken by another program.

import { choosePortBase, LocalStackDir, PortBaseConflict, portsToStart, runningParts, takenPorts } from './local-state.ts';

const env = process.env;
const layout = new LocalStackDir(env.LOCAL_DIR);
try {
  const base = choosePortBase(layout, env.LOCAL_PORT_BASE, env.LOCAL_DIR);
  // stack.ts uses DATABASE_URL from the environment when given, so its database takes no port here.
  const taken = await takenPorts(portsToStart(base, runningParts(layout), Boolean(env.DATABASE_URL)));
  if (taken.length) {
    const list = taken.map((p) => `${p.port} (${p.what})`).join(', ');
    console.error(
      `error: port${taken.length > 1 ? 's' : ''} ${list} ${taken.length > 1 ? 'are' : 'is'} taken by another program, and the local stack needs ${taken.length > 1 ? 'them' : 'it'}: ` +
        `stop that program, or choose other ports with LOCAL_PORT_BASE=<port> (the parts take it and the six after it)`,
    );
    process.exit(1);
  }
  console.log(base);
} catch (error) {
  if (!(error instanceof PortBaseConflict)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(2);
}
