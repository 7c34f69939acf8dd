import { randomInt } from 'node:crypto';

// Crockford base32: no I, L, O, U, so an id read aloud or typed is unambiguous.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newRequestId(): string {
  let id = 'R';
  for (let i = 0; i < 9; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}
