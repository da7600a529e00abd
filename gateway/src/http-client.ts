// The one HTTP client for the gateway's own calls (users_service lookups, the JWKS, Google's
// metadata server): the fetch Hive Gateway itself sends subgraph requests with, over node:http.
//
// Not the global fetch (undici): a process that also runs undici's streams, event targets and
// abort signals through Node's shared stream and event code leaves that code's type feedback
// mixed, and every later subgraph call paid for it. Measured over fresh processes
// (bench/gateway, `--only processes`), the gateway with identity used about 4% more CPU per
// request than the one without, and a baseline made to do identity's start-up calls with the
// global fetch used as much; almost none of the difference was identity's own code.
export { fetch } from '@whatwg-node/fetch';
