/* chars.h - character classes for the core's parsers.
 *
 * ASCII only and independent of the locale: <ctype.h> follows setlocale(),
 * which the app may change at any time, and takes an int that a negative
 * char would make undefined. Bytes >= 0x80 are never in any class. */
#ifndef USCH_CHARS_H
#define USCH_CHARS_H

static inline int usch_is_digit(char c) {
	return c >= '0' && c <= '9';
}

static inline int usch_is_lower(char c) {
	return c >= 'a' && c <= 'z';
}

static inline int usch_is_upper(char c) {
	return c >= 'A' && c <= 'Z';
}

static inline int usch_is_alpha(char c) {
	return usch_is_lower(c) || usch_is_upper(c);
}

static inline int usch_is_alnum(char c) {
	return usch_is_alpha(c) || usch_is_digit(c);
}

/* The C locale's isspace: space, \t, \n, \v, \f, \r. */
static inline int usch_is_space(char c) {
	return c == ' ' || (c >= '\t' && c <= '\r');
}

#endif
