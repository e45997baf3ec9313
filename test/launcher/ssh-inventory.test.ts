import { execSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sshConfigProblems } from '../../src/launcher/backends/ssh.js';
import { SSH_FILE_LIMIT, SshConfigError, SshConfigResolver, type SshSettings } from '../../src/launcher/ssh/config.js';
import { entryMatches, hostKeyName, parseKnownHosts, readKnownHosts, verifyHostKey } from '../../src/launcher/ssh/known-hosts.js';
import { SshError, SshPool } from '../../src/launcher/ssh/transport.js';
import { workspace } from '../helpers.js';

/** An SSH wire-format public key blob of the given type (type string + random body). */
function blob(type: string, seed: string): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(seed.padEnd(32, '.'))]);
}

function hashed(name: string, salt = Buffer.from('0123456789abcdef0123')): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  const a = blob('ssh-ed25519', 'key-a');
  const b = blob('ssh-ed25519', 'key-b');
  const rsa = blob('ssh-rsa', 'key-r');
  const text = [
    '# comment',
    `node01,10.0.0.1 ssh-ed25519 ${a.toString('base64')}`,
    `${hashed('node02')} ssh-ed25519 ${a.toString('base64')}`,
    `[node03]:2222 ssh-ed25519 ${b.toString('base64')}`,
    `gpu-* ssh-ed25519 ${b.toString('base64')}`,
    `@revoked * ssh-rsa ${rsa.toString('base64')}`,
  ].join('\n');
  const entries = parseKnownHosts(text, 'kh');

  it('matches plain names, hashed entries, [host]:port and patterns', () => {
    expect(verifyHostKey(entries, ['node01'], a).kind).toBe('match');
    expect(verifyHostKey(entries, ['10.0.0.1'], a).kind).toBe('match');
    expect(verifyHostKey(entries, ['node02'], a).kind).toBe('match');
    expect(verifyHostKey(entries, [hostKeyName('node03', 2222)], b).kind).toBe('match');
    expect(verifyHostKey(entries, ['gpu-17'], b).kind).toBe('match');
    expect(entryMatches(hashed('node02'), 'node03')).toBe(false);
  });

  it('refuses a changed key, an unknown host and a revoked key — never trusts silently', () => {
    expect(verifyHostKey(entries, ['node01'], b)).toMatchObject({ kind: 'changed' });
    expect(verifyHostKey(entries, ['node02'], b)).toMatchObject({ kind: 'changed' });
    expect(verifyHostKey(entries, ['node09'], a)).toEqual({ kind: 'unknown' });
    expect(verifyHostKey(entries, ['node03'], b)).toEqual({ kind: 'unknown' }); // port 22 is another name
    expect(verifyHostKey(entries, ['node01'], rsa)).toMatchObject({ kind: 'revoked' });
  });
});

describe('ssh_config resolution', () => {
  const settings = (over: Partial<SshSettings>): SshSettings => ({
    user: '',
    port: 22,
    identity_file: '',
    jump: '',
    known_hosts: '~/.ssh/known_hosts',
    max_parallel: 64,
    connect_timeout_s: 15,
    config: '',
    path: [],
    lease_timeout_s: 60,
    ...over,
  });
  const dir = workspace({
    ssh_config: [
      'Host bastion',
      '  HostName 192.0.2.10',
      '  User jump',
      '  Port 2200',
      'Host node*',
      '  User ops',
      '  ProxyJump bastion',
      '  IdentityFile %d/.ssh/id_nodes',
      '  UserKnownHostsFile /etc/rlstack/known_hosts',
      'Host chain',
      '  HostName 198.51.100.7',
      '  ProxyJump a@first:2022,second',
    ].join('\n'),
  });
  const config = join(dir, 'ssh_config');

  it('honours Host aliases, HostName, User, Port, IdentityFile, ProxyJump and UserKnownHostsFile', () => {
    const r = new SshConfigResolver(settings({ config }));
    const node = r.resolve('node03');
    expect(node).toMatchObject({ alias: 'node03', hostname: 'node03', user: 'ops', port: 22, jumps: ['bastion'] });
    expect(node.identityFiles[0]).toMatch(/\/\.ssh\/id_nodes$/);
    expect(node.knownHostsFiles[0]).toBe('/etc/rlstack/known_hosts');
    const jump = r.resolve('bastion', true);
    expect(jump).toMatchObject({ hostname: '192.0.2.10', user: 'jump', port: 2200, hostKeyNames: ['[192.0.2.10]:2200'] });
  });

  it('reads ProxyJump chains outermost first and user@host:port destinations', () => {
    const r = new SshConfigResolver(settings({ config }));
    expect(r.resolve('chain').jumps).toEqual(['a@first:2022', 'second']);
    expect(new SshConfigResolver(settings({ config })).resolve('a@first:2022', true)).toMatchObject({ user: 'a', hostname: 'first', port: 2022 });
  });

  it('lets the spec override user, key, jump and known_hosts for the inventory, not for jump hosts', () => {
    const r = new SshConfigResolver(settings({ config, user: 'root', identity_file: '/k/id', jump: 'other', known_hosts: '/tmp/kh' }));
    const node = r.resolve('node01');
    expect(node).toMatchObject({ user: 'root', jumps: ['other'] });
    expect(node.identityFiles[0]).toBe('/k/id');
    expect(node.knownHostsFiles[0]).toBe('/tmp/kh');
    expect(r.resolve('bastion', true).user).toBe('jump');
  });
});


describe('hostile client configuration (issue 11)', () => {
  const settings = (over: Partial<SshSettings>): SshSettings => ({
    user: '',
    port: 22,
    identity_file: '',
    jump: '',
    known_hosts: '~/.ssh/known_hosts',
    max_parallel: 64,
    connect_timeout_s: 15,
    config: '',
    path: [],
    lease_timeout_s: 60,
    ...over,
  });
  const dir = workspace({
    ssh_config: ['Host node*', '  ProxyJump gw-a', 'Host gw-a', '  ProxyJump gw-b', 'Host gw-b', '  ProxyJump gw-a', 'Host self', '  ProxyJump self', 'Host fine', '  ProxyJump gw-c'].join('\n'),
  });
  const config = join(dir, 'ssh_config');

  it('a ProxyJump cycle is an error naming the cycle, not a stack overflow (89 RangeError traces)', async () => {
    const pool = new SshPool(settings({ config, connect_timeout_s: 2 }));
    try {
      const err = await pool.run('node01', 'true').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SshError);
      expect(err).toMatchObject({ kind: 'cycle' });
      expect((err as SshError).message).toContain('node01 → gw-a → gw-b → gw-a');
      expect((err as SshError).message).not.toMatch(/call stack/);
    } finally {
      pool.close();
    }
  });

  it('a host name that does not resolve is named as a DNS problem, not blamed on sshd', async () => {
    const keyDir = workspace({});
    execSync(`ssh-keygen -q -t ed25519 -N '' -f ${join(keyDir, 'id')}`);
    const pool = new SshPool(settings({ config, identity_file: join(keyDir, 'id'), connect_timeout_s: 5 }));
    try {
      const err = (await pool.run('no-such-node.invalid', 'true').then(
        () => undefined,
        (e: unknown) => e,
      )) as SshError;
      expect(err).toBeInstanceOf(SshError);
      expect(err.message).toMatch(/^no-such-node\.invalid: the host name no-such-node\.invalid does not resolve \((getaddrinfo )?(ENOTFOUND|EAI_AGAIN)/);
      expect(err.hint).toContain('DNS or /etc/hosts');
      expect(err.hint).not.toMatch(/sshd/);
    } finally {
      pool.close();
    }
  });

  it('the back end check reports each cycle once (RS4109), before connecting to anything', () => {
    const resolver = new SshConfigResolver(settings({ config }));
    expect(resolver.jumpCycle('fine')).toBeUndefined();
    const ds = sshConfigProblems(resolver, ['node01', 'node02', 'self']);
    expect(ds.map((d) => d.code)).toEqual(['RS4109', 'RS4109']);
    expect(ds[0]!.message).toContain('gw-a → gw-b → gw-a');
    expect(ds[1]!.message).toContain('self → self');
    // Each at the ProxyJump that closes its loop: gw-b's (line 6), self's (line 8).
    expect(ds.map((d) => d.line)).toEqual([6, 8]);
    for (const d of ds) {
      expect(d.file).toBe(config);
      expect(d.hint).toMatch(/ProxyJump none/);
    }
  });

  it('cluster.ssh.config = "/dev/zero" is refused at once (RS4110), not read forever', async () => {
    const resolver = new SshConfigResolver(settings({ config: '/dev/zero' }));
    expect(resolver.problem?.message).toMatch(/\/dev\/zero is a character device/);
    const ds = sshConfigProblems(resolver, ['node01']);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'RS4110', file: '/dev/zero', path: 'cluster.ssh.config' });
    expect(ds[0]!.line).toBeUndefined();
    const pool = new SshPool(settings({ config: '/dev/zero' }));
    await expect(pool.run('node01', 'true')).rejects.toMatchObject({ kind: 'config' });
    pool.close();
  });

  it('a FIFO as cluster.ssh.config does not block; a huge one is refused', () => {
    const fifo = join(dir, 'fifo_config');
    execSync(`mkfifo ${fifo}`);
    expect(new SshConfigResolver(settings({ config: fifo })).problem?.message).toMatch(/FIFO/);
    const big = join(dir, 'big_config');
    writeFileSync(big, `# ${'x'.repeat(SSH_FILE_LIMIT)}\n`);
    expect(new SshConfigResolver(settings({ config: big })).problem?.message).toMatch(/bytes; at most 1 MiB/);
  });

  it('known_hosts and key files are read bounded too', async () => {
    expect(() => readKnownHosts(['/dev/zero'])).toThrow(SshConfigError);
    expect(readKnownHosts([join(dir, 'missing')])).toEqual([]);
    for (const over of [{ identity_file: '/dev/zero' }, { known_hosts: '/dev/zero' }]) {
      const pool = new SshPool(settings({ config, connect_timeout_s: 2, ...over }));
      await expect(pool.run('fine-host', 'true')).rejects.toMatchObject({ kind: 'config', message: expect.stringMatching(/\/dev\/zero is a character device/) });
      pool.close();
    }
  });
});
