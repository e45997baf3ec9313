/**
 * The SSH transport: one ssh2 connection per host, reused for every command; ProxyJump by `forwardOut` on
 * the jump host's (equally reused) connection; host keys verified against known_hosts (never trusted
 * blindly); keys from the config or ssh-agent; keepalives; a deadline per host (`connect_timeout_s`,
 * covering the jump and the handshake); at most `max_parallel` handshakes at once and a few channels per
 * connection (below OpenSSH's MaxSessions); handshakes refused by sshd's MaxStartups are retried with
 * backoff. Commands are bash scripts sent on the channel's stdin (`bash -s`), so nothing of them — secrets
 * included — appears on any command line.
 */
import { existsSync } from 'node:fs';
import pLimit from 'p-limit';
import { Client, type AuthMethod, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { defaultIdentityFiles, readSshFile, SshConfigError, SshConfigResolver, type Endpoint, type SshSettings } from './config.js';
import { hostKeyProblem, readKnownHosts, verifyHostKey, type KnownHostEntry } from './known-hosts.js';

/** `config`: the client configuration (cluster.ssh.config, known_hosts, a key file) cannot be used; `cycle`: a ProxyJump cycle. */
export type SshFailureKind = 'hostkey' | 'unreachable' | 'auth' | 'timeout' | 'refused' | 'config' | 'cycle';

export class SshError extends Error {
  constructor(
    readonly alias: string,
    readonly kind: SshFailureKind,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

const CHANNELS_PER_HOST = 8;
const HANDSHAKE_RETRIES = 5;

class Semaphore {
  private waiting: (() => void)[] = [];
  private used = 0;
  constructor(private readonly size: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.used >= this.size) await new Promise<void>((r) => this.waiting.push(r));
    this.used++;
    try {
      return await fn();
    } finally {
      this.used--;
      this.waiting.shift()?.();
    }
  }
}

interface Entry {
  client: Promise<Client>;
  channels: Semaphore;
}

export class SshPool {
  readonly resolver: SshConfigResolver;
  private readonly clients = new Map<string, Entry>();
  private readonly handshakes: ReturnType<typeof pLimit>;
  private readonly knownHosts = new Map<string, KnownHostEntry[]>();
  private closed = false;

  constructor(
    readonly settings: SshSettings,
    private readonly options: { debug?: (line: string) => void } = {},
  ) {
    this.resolver = new SshConfigResolver(settings);
    this.handshakes = pLimit(Math.max(1, settings.max_parallel));
  }

  endpoint(alias: string): Endpoint {
    return this.resolver.resolve(alias);
  }

  /**
   * The connection to `destination`. An inventory host takes the spec's settings and its jumps; a jump host
   * (`asJump`) takes only its own config, and is reached through `via` when it is a later hop of a chain
   * (ProxyJump a,b: b through a), or by its own config's ProxyJump when it is the first hop, as ssh -J does.
   */
  private client(destination: string, deadline: number, hop?: { via: string[] }): Entry {
    const key = hop ? `jump:${hop.via.join('>')}>${destination}` : `>${destination}`;
    const existing = this.clients.get(key);
    if (existing) return existing;
    const entry: Entry = {
      client: this.open(destination, hop, deadline, key),
      channels: new Semaphore(CHANNELS_PER_HOST),
    };
    entry.client.catch(() => this.clients.delete(key));
    this.clients.set(key, entry);
    return entry;
  }

  private knownHostsOf(files: string[]): KnownHostEntry[] {
    const k = files.join('\n');
    let entries = this.knownHosts.get(k);
    if (!entries) this.knownHosts.set(k, (entries = readKnownHosts(files)));
    return entries;
  }

  private auth(ep: Endpoint): AuthMethod[] {
    const methods: AuthMethod[] = [];
    const agent = process.env['SSH_AUTH_SOCK'];
    const files = ep.identityFiles.length ? ep.identityFiles : defaultIdentityFiles();
    for (const f of files) {
      if (!existsSync(f)) continue;
      const key = readSshFile(f, 'key file');
      if (key !== undefined) methods.push({ type: 'publickey', username: ep.user, key } as AuthMethod);
    }
    if (agent && !(ep.identitiesOnly && methods.length)) methods.unshift({ type: 'agent', username: ep.user, agent } as AuthMethod);
    return methods;
  }

  private async open(destination: string, hop: { via: string[] } | undefined, deadline: number, key: string): Promise<Client> {
    let ep: Endpoint;
    try {
      ep = this.resolver.resolve(destination, hop !== undefined);
      // The jump chain recurses below (this.client of the first hop): a cycle would never end.
      if (!hop) {
        const cycle = this.resolver.cycleError(destination);
        if (cycle) throw cycle;
      }
    } catch (e) {
      if (e instanceof SshConfigError) throw new SshError(destination, e.cycle ? 'cycle' : 'config', e.message, e.hint);
      throw e;
    }
    const jumps = hop?.via.length ? hop.via : ep.jumps;
    const started = Date.now();
    const timeoutS = this.settings.connect_timeout_s;
    const jumpName = jumps.at(-1);
    let refused: SshError | undefined;
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      // Out of time after refusals: the refusal is the news (MaxStartups), not the clock.
      if (remaining <= 0 && refused) throw new SshError(destination, 'refused', `${refused.message}; still refused after ${attempt} attempts over ${Math.round((Date.now() - started) / 1000)} s`, refused.hint);
      if (remaining <= 0) throw new SshError(destination, 'timeout', `${destination} did not answer within connect_timeout_s = ${timeoutS} s${jumpName ? ` (through ${jumpName})` : ''}`, 'a slow or unreachable node: check it, raise cluster.ssh.connect_timeout_s, or leave it out of cluster.ssh.hosts');
      try {
        // The jump host's connection first, outside the limiter (a handshake slot must not wait for another).
        const jump = jumpName ? await this.client(jumpName, deadline, { via: jumps.slice(0, -1) }).client : undefined;
        return await this.handshakes(() => this.handshake(ep, jump, jumpName, deadline, key));
      } catch (e) {
        const err = e instanceof SshError ? e : e instanceof SshConfigError ? new SshError(destination, 'config', e.message, e.hint) : new SshError(destination, 'unreachable', `${destination}: ${(e as Error).message}`, 'check that the node is up and sshd accepts connections');
        // sshd's MaxStartups drops handshakes at random under load: try again after a while.
        if (err.kind !== 'refused') throw err;
        refused = err;
        if (attempt >= HANDSHAKE_RETRIES) throw new SshError(destination, 'refused', `${err.message}; still refused after ${attempt + 1} attempts over ${Math.round((Date.now() - started) / 1000)} s`, err.hint);
        const wait = Math.min(200 * 2 ** attempt, 3000) * (0.5 + Math.random());
        this.options.debug?.(`${destination}: ${err.message}; retrying in ${Math.round(wait)} ms (attempt ${attempt + 2}, ${Date.now() - started} ms so far)`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async handshake(ep: Endpoint, jump: Client | undefined, jumpName: string | undefined, deadline: number, key: string): Promise<Client> {
    const alias = ep.alias;
    const timeoutS = this.settings.connect_timeout_s;
    let sock: ConnectConfig['sock'];
    if (jump) {
      sock = await new Promise<ClientChannel>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SshError(alias, 'timeout', `${alias} did not answer within connect_timeout_s = ${timeoutS} s (through ${jumpName})`, 'a slow or unreachable node: check it, raise cluster.ssh.connect_timeout_s, or leave it out of cluster.ssh.hosts')), Math.max(1, deadline - Date.now()));
        jump.forwardOut('127.0.0.1', 0, ep.hostname, ep.port, (err, stream) => {
          clearTimeout(timer);
          if (err) reject(new SshError(alias, 'unreachable', `${alias} (${ep.hostname}:${ep.port}) is unreachable from ${jumpName}: ${err.message}`, 'check that the node is up and its sshd listens'));
          else resolve(stream);
        });
      });
    }
    const knownFiles = ep.knownHostsFiles;
    const entries = this.knownHostsOf(knownFiles);
    let keyProblem: { message: string; hint: string } | undefined;
    const client = new Client();
    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      const fail = (e: SshError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.end();
        reject(e);
      };
      const slow = () => new SshError(alias, 'timeout', `${alias} did not complete the SSH handshake within connect_timeout_s = ${timeoutS} s${jumpName ? ` (through ${jumpName})` : ''}`, 'a slow node: check its load and network, or raise cluster.ssh.connect_timeout_s');
      const timer = setTimeout(() => fail(slow()), Math.max(1, deadline - Date.now()));
      client.on('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(client);
      });
      client.on('error', (e: Error & { level?: string }) => {
        if (keyProblem) return fail(new SshError(alias, 'hostkey', keyProblem.message, keyProblem.hint));
        const text = e.message;
        // ssh2's own readyTimeout (the same deadline) may fire first.
        if (/timed out while waiting for handshake/i.test(text)) return fail(slow());
        if (e.level === 'client-authentication' || /authentication methods failed/i.test(text)) {
          return fail(new SshError(alias, 'auth', `${alias}: authentication failed as ${ep.user} (${text})`, 'check cluster.ssh.user and identity_file (or the IdentityFile of ~/.ssh/config), or load the key into ssh-agent'));
        }
        if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME|getaddrinfo/i.test(text)) {
          // The name never became an address: no sshd was asked, so none is to blame.
          return fail(new SshError(alias, 'unreachable', `${alias}: the host name ${ep.hostname} does not resolve (${text})`, 'check the name in cluster.ssh.hosts or the HostName of your ssh config, and DNS or /etc/hosts on the machine that runs rlstack'));
        }
        if (/before handshake|ECONNRESET|kex_exchange|Connection lost|banner/i.test(text)) {
          return fail(new SshError(alias, 'refused', `${alias}: sshd dropped the connection before the handshake (${text}): MaxStartups?`, 'too many handshakes at once: lower cluster.ssh.max_parallel, or raise MaxStartups in the nodes\' sshd_config'));
        }
        fail(new SshError(alias, 'unreachable', `${alias} (${ep.hostname}:${ep.port}) is unreachable: ${text}`, 'check that the node is up and its sshd listens'));
      });
      client.on('close', () => {
        this.clients.delete(key);
        fail(new SshError(alias, 'refused', `${alias}: the connection closed during the handshake`, 'MaxStartups on the node?'));
      });
      let auth: AuthMethod[];
      try {
        auth = this.auth(ep);
      } catch (e) {
        if (e instanceof SshConfigError) return fail(new SshError(alias, 'config', e.message, e.hint));
        throw e;
      }
      if (auth.length === 0) return fail(new SshError(alias, 'auth', `${alias}: no key to authenticate with (no IdentityFile, no ~/.ssh/id_*, no SSH_AUTH_SOCK)`, 'set cluster.ssh.identity_file, or start ssh-agent and add your key'));
      client.connect({
        host: ep.hostname,
        port: ep.port,
        username: ep.user,
        sock,
        authHandler: auth,
        readyTimeout: Math.max(1000, deadline - Date.now()),
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
        hostVerifier: (hostKey: Buffer) => {
          const verdict = verifyHostKey(entries, ep.hostKeyNames, hostKey);
          if (verdict.kind === 'match') return true;
          keyProblem = hostKeyProblem(verdict, alias, ep.hostname, ep.port, hostKey, knownFiles.filter((f) => existsSync(f)), jumpName);
          return false;
        },
      });
    });
  }

  /** Connects (or reuses the connection); rejects with an SshError naming the host and the reason. */
  async connect(alias: string): Promise<Client> {
    if (this.closed) throw new SshError(alias, 'unreachable', 'the ssh pool is closed', '');
    return this.client(alias, Date.now() + this.settings.connect_timeout_s * 1000).client;
  }

  /** Runs a bash script on the host (script on stdin, never on a command line). */
  async run(alias: string, script: string, options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const client = await this.connect(alias);
    const channels = this.clients.get(`>${alias}`)?.channels ?? new Semaphore(CHANNELS_PER_HOST);
    return channels.run(
      () =>
        new Promise<ExecResult>((resolve, reject) => {
          client.exec('bash -s', (err, stream) => {
            if (err) return reject(new SshError(alias, 'refused', `${alias}: cannot open a session: ${err.message}`, 'MaxSessions on the node?'));
            let stdout = '';
            let stderr = '';
            let timer: NodeJS.Timeout | undefined;
            if (options.timeoutMs) timer = setTimeout(() => stream.close(), options.timeoutMs);
            stream.on('data', (d: Buffer) => (stdout += d.toString()));
            stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
            stream.on('close', (code: number | null, signal: string | null) => {
              if (timer) clearTimeout(timer);
              resolve({ code: code ?? null, signal: signal ?? null, stdout, stderr });
            });
            stream.end(script);
          });
        }),
    );
  }

  async sftp(alias: string): Promise<SFTPWrapper> {
    const client = await this.connect(alias);
    return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
  }

  close(): void {
    this.closed = true;
    for (const entry of this.clients.values()) entry.client.then((c) => c.end()).catch(() => undefined);
    this.clients.clear();
  }
}

/** Runs `fn` on every host, at most `limit` at once; each result or the SshError of its host. */
export async function onAll<T>(hosts: string[], limit: number, fn: (host: string, index: number) => Promise<T>): Promise<({ ok: true; value: T } | { ok: false; error: SshError })[]> {
  const l = pLimit(Math.max(1, limit));
  return Promise.all(
    hosts.map((h, i) =>
      l(async () => {
        try {
          return { ok: true as const, value: await fn(h, i) };
        } catch (e) {
          return { ok: false as const, error: e instanceof SshError ? e : new SshError(h, 'unreachable', `${h}: ${(e as Error).message}`, '') };
        }
      }),
    ),
  );
}
