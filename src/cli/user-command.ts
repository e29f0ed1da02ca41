/**
 * `vantage user add|list|rm|passwd`: manages web users directly in the configured database (server.yml's
 * `database`, or --database), so an operator on the server can create or recover an admin without the web
 * page. Passwords are read from stdin (first line; the terminal does not echo it when stdin is a TTY), never
 * from the command line, where other users could read them in the process list.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { ConfigError, loadServerConfig } from '../config/load.js';
import { openStore, type OpenedStore } from '../store/index.js';
import { hashPassword, passwordProblem, usernameProblem } from '../auth/password.js';
import { isRole, LastAdminError, ROLES, UsernameTakenError } from '../store/users.js';
import { randomId } from '../platform/ids.js';

interface CommonOpts {
  config?: string;
  database?: string;
}

class UsageError extends Error {}

async function withStore<T>(opts: CommonOpts, fn: (s: OpenedStore) => Promise<T>): Promise<T> {
  let database: string;
  try {
    const loaded = loadServerConfig({ file: opts.config, env: process.env, flags: opts.database ? { database: opts.database } : {} });
    database = loaded.config.database;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.issues.join('; '));
    throw err;
  }
  const store = await openStore({ database });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Reads one line from stdin; on a terminal, prompts and does not echo what is typed. */
async function readPassword(prompt: string): Promise<string> {
  const tty = process.stdin.isTTY === true;
  let muted = false;
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: tty ? out : undefined, terminal: tty });
  if (tty) {
    process.stderr.write(prompt);
    muted = true;
  }
  try {
    const line = await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('close', () => reject(new UsageError('password: expected it on stdin (first line), got nothing')));
    });
    if (tty) process.stderr.write('\n');
    return line;
  } finally {
    rl.close();
  }
}

async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof UsageError || err instanceof LastAdminError || err instanceof UsernameTakenError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

export function registerUserCommand(program: Command): void {
  const cmd = new Command('user').description('Manage web users in the configured database (roles: viewer, editor, admin).');
  const common = (c: Command) =>
    c.option('-c, --config <file>', 'server.yml naming the database').option('--database <path|url>', 'the database (overrides server.yml)');

  common(cmd.command('add').argument('<username>').description('Create a user; the password is read from stdin.'))
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'viewer')
    .action((username: string, opts: CommonOpts & { role: string }) =>
      run(async () => {
        const problem = usernameProblem('username', username);
        if (problem) throw new UsageError(problem);
        if (!isRole(opts.role)) throw new UsageError(`--role: expected one of ${ROLES.join(', ')}, got "${opts.role}"`);
        const role = opts.role;
        const password = await readPassword(`password for ${username}: `);
        const bad = passwordProblem('password', password);
        if (bad) throw new UsageError(bad);
        const hash = await hashPassword(password);
        await withStore(opts, async (s) => {
          const u = await s.users.createUser({ id: randomId('usr_'), username, role, password_hash: hash }, Date.now());
          process.stdout.write(`created ${u.username} (${u.role}, id ${u.id})\n`);
        });
      }),
    );

  common(cmd.command('list').description('List users (username, role, id).'))
    .option('--json', 'print JSON')
    .action((opts: CommonOpts & { json?: boolean }) =>
      run(() =>
        withStore(opts, async (s) => {
          const users = (await s.users.listUsers()).map((u) => ({ id: u.id, username: u.username, role: u.role, created_at: new Date(u.created_at).toISOString() }));
          if (opts.json) {
            process.stdout.write(JSON.stringify(users, null, 2) + '\n');
            return;
          }
          if (users.length === 0) process.stdout.write('no users (the server prints a setup link at start)\n');
          for (const u of users) process.stdout.write(`${u.username.padEnd(24)} ${u.role.padEnd(7)} ${u.id}\n`);
        }),
      ),
    );

  common(cmd.command('rm').argument('<username>').description('Remove a user and end its sessions (not the last admin).')).action((username: string, opts: CommonOpts) =>
    run(() =>
      withStore(opts, async (s) => {
        const u = await s.users.getUserByUsername(username);
        if (!u) throw new UsageError(`username: no user "${username}"`);
        await s.users.deleteUser(u.id);
        process.stdout.write(`removed ${u.username}\n`);
      }),
    ),
  );

  common(cmd.command('passwd').argument('<username>').description('Set a user\'s password (read from stdin) and end its sessions.')).action(
    (username: string, opts: CommonOpts) =>
      run(async () => {
        const password = await readPassword(`new password for ${username}: `);
        const bad = passwordProblem('password', password);
        if (bad) throw new UsageError(bad);
        const hash = await hashPassword(password);
        await withStore(opts, async (s) => {
          const u = await s.users.getUserByUsername(username);
          if (!u) throw new UsageError(`username: no user "${username}"`);
          await s.users.setPassword(u.id, hash, Date.now());
          process.stdout.write(`password of ${u.username} changed; its sessions were ended\n`);
        });
      }),
  );
  program.addCommand(cmd);
}
