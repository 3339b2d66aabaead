/**
 * Reads a V8 CPU profile (.cpuprofile, as node:inspector writes it) and says where the time
 * went: self time by component (a Hearth package, an npm package, Node itself, GC) and the
 * hottest functions. Self time is the sum of the sampling intervals in which the function was on
 * top of the stack.
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Share {
  readonly name: string;
  readonly ms: number;
  /** Of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly busyMs: number;
  readonly components: readonly Share[];
  readonly functions: readonly Share[];
}

export function summariseProfile(profile: CpuProfile, root: string, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const components = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    total += ms;
    const component = componentOf(node.callFrame, root);
    if (component === '(idle)') {
      idle += ms;
      continue;
    }
    components.set(component, (components.get(component) ?? 0) + ms);
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${location(node.callFrame, root)}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>, n: number): Share[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms, share: busy > 0 ? ms / busy : 0 }));
  return { totalMs: total, busyMs: busy, components: rank(components, 20), functions: rank(functions, top) };
}

/** The component a frame belongs to: `@hearth/<pkg>`, `service-<name>`, an npm package, node, gc... */
export function componentOf(frame: CallFrame, root: string): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(program)') return 'v8 (program)';
    return `native ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] ?? ''}`;
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? path);
  }
  if (path.startsWith(root)) {
    const rel = path.slice(root.length).replace(/^\//, '').split('/');
    if (rel[0] === 'packages') return `@hearth/${rel[1] ?? ''}`;
    if (rel[0] === 'services') return `service-${rel[1] ?? ''}`;
    return rel[0] ?? path;
  }
  return path;
}

function location(frame: CallFrame, root: string): string {
  const path = frame.url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  const short = nm >= 0 ? path.slice(nm + '/node_modules/'.length) : path.startsWith(root) ? path.slice(root.length + 1) : path;
  return short ? `(${short}:${frame.lineNumber + 1})` : '';
}
