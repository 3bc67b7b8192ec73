import { z } from 'zod';
import { PASSWORD_MAX_LENGTH } from '../passwords/policy.js';

/** Over-long passwords are refused here, before any hashing (bounded cost). */
export const password = z.string().min(1).max(PASSWORD_MAX_LENGTH, `at most ${PASSWORD_MAX_LENGTH} characters`);
export const username = z.string().trim().min(1).max(320);
export const uuid = z.uuid();
export const email = z.email().max(320);
