/* Hexadecimal digits, for what arrives as text: TOML's \u escapes, STARTPOD's entropy, MAC
 * addresses. */
#ifndef KATA_HEX_H
#define KATA_HEX_H

/* The value of one hex digit (either case), or -1 for anything else. */
static inline int hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte of two hex digits at text[0..1], or -1 when either is not one. */
static inline int hex_byte_value(const char *text)
{
	int hi = hex_digit_value((unsigned char)text[0]);
	int lo = hi < 0 ? -1 : hex_digit_value((unsigned char)text[1]);

	return lo < 0 ? -1 : hi << 4 | lo;
}

#endif
