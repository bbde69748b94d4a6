// The node flags a Honu server runs with. V8 reads heap sizes only when the process starts
// (v8.setFlagsFromString later has no effect on them), so they go on the command line: `npm
// start`, the bin's shebang, `npm run cluster`, the bench servers and the cluster tests pass them.
//
// --max-semi-space-size=64: a durable set allocates about 16 KB of objects that die within the
// request (bench/RESULTS.md, stop 21). With V8's default 16 MB semi-spaces the main thread
// scavenged often enough to spend 7.4-8.1% of its time in GC at 64 connections; with 64 MB
// semi-spaces it spent 5.6-6.1% (stop 23). The young generation grows to that size only under
// allocation pressure: an idle node stays small. Worker threads inherit it (checked: a worker's
// new space grew to 128 MiB under the flag, 32 MiB without).
export const serverNodeFlags: readonly string[] = ['--max-semi-space-size=64'];

/** The flags of serverNodeFlags this process was not started with (by name: any value given
 *  on the command line or in NODE_OPTIONS counts as the operator's choice). */
export function missingServerNodeFlags(execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map(flagName);
  return serverNodeFlags.filter((flag) => !given.includes(flagName(flag)));
}

function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return (eq === -1 ? arg : arg.slice(0, eq)).replaceAll('_', '-');
}
