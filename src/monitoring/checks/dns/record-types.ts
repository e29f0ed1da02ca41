/** The DNS record types a dns check can ask for (also the shape of a result's dns details). Pure: no I/O. */
import { z } from 'zod';

export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT'] as const;
export const DnsRecordTypeSchema = z.enum(DNS_RECORD_TYPES);
export type DnsRecordType = z.output<typeof DnsRecordTypeSchema>;
