import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SshConfigResolver, type SshSettings } from '../../src/launcher/ssh/config.js';
import { entryMatches, hostKeyName, parseKnownHosts, verifyHostKey } from '../../src/launcher/ssh/known-hosts.js';
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

