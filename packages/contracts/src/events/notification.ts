import { z } from 'zod';
import { id } from './common.js';

/** Delivery outcomes, produced by notifications. Subject: the message id. Never carries the message body. */
export const notificationSent = z.object({
  messageId: id,
  template: z.string().max(64),
  channel: z.enum(['email', 'sms']),
  recipientPersonId: id.nullable(),
  provider: z.string().max(64),
});

export const notificationFailed = z.object({
  messageId: id,
  template: z.string().max(64),
  channel: z.enum(['email', 'sms']),
  recipientPersonId: id.nullable(),
  reason: z.string().max(1000),
  attempts: z.number().int().positive(),
});
