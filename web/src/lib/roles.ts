import type { Role } from './api';

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };
/** Whether `role` has at least the rights of `min` (viewer < editor < admin). */
export const atLeast = (role: Role, min: Role): boolean => RANK[role] >= RANK[min];
