/** The Connect implementation of vantage.v1.UserService: profile, password change and user admin. */
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { UserSchema, type User, type UserService } from '../../gen/vantage/v1/users_pb.js';
import { hashPassword, passwordProblem, usernameProblem, verifyPassword } from '../../auth/password.js';
import { isRole, LastAdminError, ROLES, UsernameTakenError, type UserRecord, type UserStore } from '../../store/users.js';
import { randomId } from '../../platform/ids.js';
import { kPrincipal } from './roles.js';

export interface UserServiceDeps {
  users: UserStore;
  now: () => number;
}

function toProto(u: UserRecord): User {
  return create(UserSchema, { id: u.id, username: u.username, role: u.role, createdAtMs: BigInt(u.created_at), updatedAtMs: BigInt(u.updated_at) });
}

const invalid = (msg: string) => new ConnectError(msg, Code.InvalidArgument);

function signedInUser(ctx: HandlerContext): string {
  const p = ctx.values.get(kPrincipal);
  if (p?.kind !== 'user') throw new ConnectError('this method needs a signed-in user (an API key has no profile)', Code.FailedPrecondition);
  return p.userId;
}

function roleOf(field: string, v: string) {
  if (!isRole(v)) throw invalid(`${field}: expected one of ${ROLES.join(', ')}`);
  return v;
}

function refusal(err: unknown): never {
  if (err instanceof LastAdminError) throw new ConnectError(err.message, Code.FailedPrecondition);
  if (err instanceof UsernameTakenError) throw new ConnectError(`username: ${err.message}`, Code.AlreadyExists);
  throw err;
}

export function createUserServiceImpl(deps: UserServiceDeps): ServiceImpl<typeof UserService> {
  const { users, now } = deps;
  return {
    async getProfile(_req, ctx) {
      const user = await users.getUser(signedInUser(ctx));
      if (!user) throw new ConnectError('your user was removed', Code.Unauthenticated);
      return { user: toProto(user) };
    },
    async changePassword(req, ctx) {
      const id = signedInUser(ctx);
      const problem = passwordProblem('newPassword', req.newPassword);
      if (problem) throw invalid(problem);
      const user = await users.getUser(id);
      if (!user) throw new ConnectError('your user was removed', Code.Unauthenticated);
      if (!(await verifyPassword(req.currentPassword, user.password_hash))) throw invalid('currentPassword: wrong password');
      await users.setPassword(id, await hashPassword(req.newPassword), now());
      return {};
    },
    async listUsers() {
      return { users: (await users.listUsers()).map(toProto) };
    },
    async createUser(req) {
      const username = req.username.trim();
      const problem = usernameProblem('username', username) ?? passwordProblem('password', req.password);
      if (problem) throw invalid(problem);
      const role = roleOf('role', req.role);
      try {
        const user = await users.createUser({ id: randomId('usr_'), username, role, password_hash: await hashPassword(req.password) }, now());
        return { user: toProto(user) };
      } catch (err) {
        refusal(err);
      }
    },
    async updateUser(req) {
      if (req.id.trim() === '') throw invalid('id: required');
      const role = roleOf('role', req.role);
      try {
        const user = await users.setRole(req.id.trim(), role, now());
        if (!user) throw new ConnectError(`user ${req.id} not found`, Code.NotFound);
        return { user: toProto(user) };
      } catch (err) {
        refusal(err);
      }
    },
    async deleteUser(req) {
      if (req.id.trim() === '') throw invalid('id: required');
      try {
        if (!(await users.deleteUser(req.id.trim()))) throw new ConnectError(`user ${req.id} not found`, Code.NotFound);
        return {};
      } catch (err) {
        refusal(err);
      }
    },
  };
}
