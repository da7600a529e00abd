// The local mailbox: what the local auth sends, kept in memory with Mailpit's field names (the
// mail catcher `supabase start` runs), so a person can open a confirmation link and a test can
// fetch it with any Mailpit client. Bounded: the newest MAX_MESSAGES are kept, older ones dropped.
// Nothing leaves the machine; there is no SMTP.

import { randomBytes } from 'node:crypto';

export interface Address {
  Name: string;
  Address: string;
}

export interface Mail {
  from: Address;
  to: Address[];
  subject: string;
  text: string;
  html: string;
}

export interface StoredMessage {
  ID: string;
  MessageID: string;
  Read: boolean;
  From: Address;
  To: Address[];
  Cc: Address[];
  Bcc: Address[];
  ReplyTo: Address[];
  Subject: string;
  Created: string;
  Tags: string[];
  Text: string;
  HTML: string;
  Size: number;
}

export const MAX_MESSAGES = 500;
/** A search query longer than this is refused (Mailpit has no such bound; a hostile one should not cost much). */
export const MAX_QUERY_LENGTH = 512;

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Mailpit's ids are 22 characters of base62. */
const newId = () => [...randomBytes(22)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');

interface Term {
  field: 'to' | 'from' | 'subject' | 'is' | 'any';
  value: string;
}

/** Mailpit's search syntax, the part a test needs: to:, from:, subject:, is:read|unread, and bare words; all must match. */
export function parseQuery(query: string): Term[] {
  const terms: Term[] = [];
  for (const m of query.matchAll(/(?:(to|from|subject|is):)?(?:"([^"]*)"|(\S+))/gi)) {
    const value = (m[2] ?? m[3] ?? '').toLowerCase();
    if (!value) continue;
    terms.push({ field: ((m[1]?.toLowerCase() as Term['field'] | undefined) ?? 'any'), value });
  }
  return terms;
}

const addresses = (list: Address[]) => list.map((a) => `${a.Name} <${a.Address}>`.toLowerCase()).join(', ');

function matches(message: StoredMessage, terms: Term[]): boolean {
  return terms.every((t) => {
    switch (t.field) {
      case 'to':
        return addresses(message.To).includes(t.value);
      case 'from':
        return addresses([message.From]).includes(t.value);
      case 'subject':
        return message.Subject.toLowerCase().includes(t.value);
      case 'is':
        return t.value === 'read' ? message.Read : t.value === 'unread' ? !message.Read : false;
      default:
        return [message.Subject, message.Text, addresses(message.To), addresses([message.From])].some((s) => s.toLowerCase().includes(t.value));
    }
  });
}

/** The summary Mailpit lists: a message without its bodies, with a snippet of the text. */
export function summaryOf(m: StoredMessage) {
  return {
    ID: m.ID,
    MessageID: m.MessageID,
    Read: m.Read,
    From: m.From,
    To: m.To,
    Cc: m.Cc,
    Bcc: m.Bcc,
    ReplyTo: m.ReplyTo,
    Subject: m.Subject,
    Created: m.Created,
    Username: '',
    Tags: m.Tags,
    Size: m.Size,
    Attachments: 0,
    Snippet: m.Text.replace(/\s+/g, ' ').trim().slice(0, 250),
  };
}

export class Mailbox {
  /** Newest first, as Mailpit lists them. */
  private messages: StoredMessage[] = [];

  constructor(private readonly capacity = MAX_MESSAGES) {}

  deliver(mail: Mail): StoredMessage {
    const id = newId();
    const message: StoredMessage = {
      ID: id,
      MessageID: `${id}@mindmirror.localhost`,
      Read: false,
      From: mail.from,
      To: mail.to,
      Cc: [],
      Bcc: [],
      ReplyTo: [],
      Subject: mail.subject,
      Created: new Date().toISOString(),
      Tags: [],
      Text: mail.text,
      HTML: mail.html,
      Size: Buffer.byteLength(mail.text) + Buffer.byteLength(mail.html),
    };
    this.messages.unshift(message);
    if (this.messages.length > this.capacity) this.messages.length = this.capacity;
    return message;
  }

  /** Every message, or those matching a search query; newest first. */
  find(query?: string): StoredMessage[] {
    if (!query) return this.messages;
    const terms = parseQuery(query);
    return this.messages.filter((m) => matches(m, terms));
  }

  get count(): number {
    return this.messages.length;
  }

  get unread(): number {
    return this.messages.filter((m) => !m.Read).length;
  }

  /** One message by ID, or "latest" (of those matching the query, if given); reading marks it read, as in Mailpit. */
  read(id: string, query?: string): StoredMessage | undefined {
    const message = id === 'latest' ? this.find(query)[0] : this.messages.find((m) => m.ID === id);
    if (message) message.Read = true;
    return message;
  }

  /** Deletes these messages, or all of them when none are named. */
  delete(ids?: readonly string[]): void {
    if (!ids?.length) this.messages = [];
    else this.messages = this.messages.filter((m) => !ids.includes(m.ID));
  }

  deleteMatching(query: string): void {
    const doomed = new Set(this.find(query));
    this.messages = this.messages.filter((m) => !doomed.has(m));
  }
}
