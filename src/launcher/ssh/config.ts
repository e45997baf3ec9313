/**
 * Where and how to reach a host: the spec's [cluster.ssh] keys on top of the OpenSSH client config
 * (`cluster.ssh.config`, default ~/.ssh/config) — Host aliases, HostName, User, Port, IdentityFile,
 * IdentitiesOnly, ProxyJump, UserKnownHostsFile, HostKeyAlias — as `ssh` itself would resolve them.
 * The spec's keys act like command-line options: a non-default value wins over the config file.
 */
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import { describeBytes, readBoundedFile } from '../../bounded-read.js';
import type { Spec } from '../../compiler/spec/schema.js';

/** How to reach hosts: the spec's [cluster.ssh] without the inventory and the preflight waivers. */
export type SshSettings = Omit<Spec['cluster']['ssh'], 'hosts' | 'skip_checks'>;

/** The spec's [cluster.ssh], as the transport takes it. */

export interface Endpoint {
  /** The name as written in the inventory (an alias of ~/.ssh/config, or a host name). */
  alias: string;
  hostname: string;
  port: number;
  user: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  /** Jump hosts, outermost first (ProxyJump a,b: a, then b). */
  jumps: string[];
  knownHostsFiles: string[];
  /** Names looked up in known_hosts. */
  hostKeyNames: string[];
}

export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

const DEFAULT_KNOWN_HOSTS = '~/.ssh/known_hosts';

type Computed = Record<string, string | string[]>;

/** An ssh_config, known_hosts or key file is read up to this size (they are a few KiB). */
export const SSH_FILE_LIMIT = 1024 * 1024;

/**
 * The client configuration cannot be used: its file is unreadable (a device, a FIFO, too large), or a
 * ProxyJump chain comes back to a host it already passed (`cycle`, outermost first, the repeated host last).
 */
export class SshConfigError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly file: string,
    readonly cycle?: string[],
    /** The line to show in `file` (the ProxyJump closing a cycle), when known. */
    readonly line?: number,
  ) {
    super(message);
    this.name = 'SshConfigError';
  }
}

/** A file of the SSH client (config, known_hosts, key) as text, bounded; undefined when it does not exist. */
export function readSshFile(path: string, what: string, limit = SSH_FILE_LIMIT): string | undefined {
  const read = readBoundedFile(path, limit);
  if (read.ok) return read.bytes.toString('utf8');
  if (read.reason === 'missing') return undefined;
  throw new SshConfigError(`${what} ${path} ${read.message}`, read.reason === 'too-large' ? `an SSH ${what} is read up to ${describeBytes(limit)}: is this the right file?` : `name a regular file (${what})`, path);
}

export class SshConfigResolver {
  private readonly parsed: ReturnType<typeof SSHConfig.parse> | undefined;
  private readonly text: string | undefined;
  /** Why the config file cannot be used; every resolve() then throws it. */
  readonly problem: SshConfigError | undefined;
  readonly configFile: string;

  constructor(readonly settings: SshSettings) {
    const file = expandHome(settings.config || '~/.ssh/config');
    this.configFile = file;
    try {
      const text = readSshFile(file, 'client config (cluster.ssh.config)');
      this.text = text;
      this.parsed = text === undefined ? undefined : SSHConfig.parse(text);
    } catch (e) {
      if (!(e instanceof SshConfigError)) throw e;
      this.problem = e;
    }
  }

  /**
   * The ProxyJump chain that reaching `destination` would follow, when it loops. ssh connects to the first
   * jump host by that host's own ProxyJump (later hops go through the earlier ones), so the chain is
   * destination → its first jump → that host's first jump → …; a host met twice makes it endless.
   */
  jumpCycle(destination: string): string[] | undefined {
    const chain = [destination];
    const seen = new Set<string>();
    let next = this.resolve(destination).jumps[0];
    while (next !== undefined) {
      chain.push(next);
      if (seen.has(next)) return chain;
      seen.add(next);
      next = this.resolve(next, true).jumps[0];
    }
    return undefined;
  }

  /** jumpCycle as the error every connection to `destination` would fail with. */
  cycleError(destination: string): SshConfigError | undefined {
    const cycle = this.jumpCycle(destination);
    if (!cycle) return undefined;
    // The edge that closes the loop is a jump host's own ProxyJump, which only the config file sets.
    const closing = cycle.at(-2)!;
    return new SshConfigError(
      `ProxyJump cycle reaching ${destination}: ${cycle.join(' → ')}`,
      `a jump host is reached through its own ProxyJump: end the chain (ProxyJump none for ${closing}) in ${this.configFile}${this.settings.jump ? ' or cluster.ssh.jump' : ''}`,
      this.configFile,
      cycle,
      this.proxyJumpLine(closing),
    );
  }

  /**
   * The 1-based line of the ProxyJump that applies to `host` (the first one, as ssh takes the first value):
   * before any Host line, or in a Host block one of whose patterns matches it and no negated one does.
   * Match blocks are not evaluated (undefined when one could be the source).
   */
  proxyJumpLine(host: string): number | undefined {
    if (this.text === undefined) return undefined;
    const name = host.slice(host.lastIndexOf('@') + 1).replace(/:\d+$/, '');
    let applies = true;
    const lines = this.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(lines[i]!);
      if (!m) continue;
      const keyword = m[1]!.toLowerCase();
      if (keyword === 'host') {
        const patterns = m[2]!.split(/\s+/).filter(Boolean);
        const hit = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(name);
        applies = patterns.some((p) => !p.startsWith('!') && hit(p)) && !patterns.some((p) => p.startsWith('!') && hit(p.slice(1)));
      } else if (keyword === 'match') return undefined;
      else if (keyword === 'proxyjump' && applies) return i + 1;
    }
    return undefined;
  }

  private compute(host: string): Computed {
    if (!this.parsed) return {};
    return this.parsed.compute(host) as Computed;
  }

  /** Resolves `user@host:port` forms too (as written in ProxyJump or the inventory). */
  resolve(destination: string, asJump = false): Endpoint {
    if (this.problem) throw this.problem;
    let rest = destination;
    let explicitUser: string | undefined;
    let explicitPort: number | undefined;
    const at = rest.lastIndexOf('@');
    if (at > 0) {
      explicitUser = rest.slice(0, at);
      rest = rest.slice(at + 1);
    }
    const portMatch = /^(.*):(\d+)$/.exec(rest);
    if (portMatch && !rest.startsWith('[')) {
      rest = portMatch[1]!;
      explicitPort = Number(portMatch[2]);
    }
    const alias = rest;
    const c = this.compute(alias);
    const one = (key: string): string | undefined => {
      const v = c[key];
      return Array.isArray(v) ? v[0] : v;
    };
    const list = (key: string): string[] => {
      const v = c[key];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    };
    const s = this.settings;
    // The spec's keys apply to the inventory's hosts; a jump host takes only what its destination or config says.
    const user = explicitUser ?? ((!asJump && s.user) || one('User') || userInfo().username);
    const port = explicitPort ?? (!asJump && s.port !== 22 ? s.port : Number(one('Port') ?? 22));
    const hostname = (one('HostName') ?? alias).replace(/%h/g, alias);
    const subst = (p: string) => expandHome(p.replace(/%d/g, homedir()).replace(/%u/g, user).replace(/%h/g, hostname).replace(/%r/g, user));
    const identityFiles = [...(!asJump && s.identity_file ? [s.identity_file] : []), ...list('IdentityFile')].map(subst);
    const jumpSetting = (!asJump && s.jump) || one('ProxyJump') || '';
    const jumps = jumpSetting && jumpSetting.toLowerCase() !== 'none' ? jumpSetting.split(',').map((j) => j.trim()).filter(Boolean) : [];
    const userKnown = list('UserKnownHostsFile').flatMap((f) => f.split(/\s+/)).filter((f) => f && f !== '/dev/null');
    // cluster.ssh.known_hosts acts like `ssh -o UserKnownHostsFile=…` when set to anything but its default;
    // at the default, the config's UserKnownHostsFile (when it names one) wins, as for a plain `ssh`.
    const specKnown = s.known_hosts && s.known_hosts !== DEFAULT_KNOWN_HOSTS ? [expandHome(s.known_hosts)] : [];
    const knownHostsFiles = specKnown.length ? specKnown : userKnown.length ? userKnown.map(subst) : [expandHome(DEFAULT_KNOWN_HOSTS)];
    const global = list('GlobalKnownHostsFile').flatMap((f) => f.split(/\s+/));
    if (global.length === 0) knownHostsFiles.push('/etc/ssh/ssh_known_hosts');
    else knownHostsFiles.push(...global.filter((f) => f !== '/dev/null'));
    const keyAlias = one('HostKeyAlias');
    const keyName = (h: string) => (port === 22 ? h : `[${h}]:${port}`);
    return {
      alias,
      hostname,
      port,
      user,
      identityFiles,
      identitiesOnly: (one('IdentitiesOnly') ?? '').toLowerCase() === 'yes',
      jumps,
      knownHostsFiles,
      hostKeyNames: keyAlias ? [keyName(keyAlias)] : [keyName(hostname)],
    };
  }
}

/** Default key files OpenSSH tries when the config names none. */
export function defaultIdentityFiles(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)).filter((f) => existsSync(f));
}

export function absolute(path: string): string {
  return isAbsolute(path) ? path : join(process.cwd(), path);
}
