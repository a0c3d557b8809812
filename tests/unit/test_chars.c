/* test_chars.c - the core's character classes (chars.h) against <ctype.h>
 * in the C locale, for every byte: ASCII only, nothing at or above 0x80. */
#include <check.h>
#include "unit.h"
#include <ctype.h>
#include <locale.h>

#include "chars.h"

START_TEST(every_byte_matches_the_c_locale) {
	ck_assert_ptr_nonnull(setlocale(LC_CTYPE, "C"));
	for (int b = 0; b < 256; b++) {
		char c = (char) b;
		int ascii = b < 0x80;
		ck_assert_int_eq(usch_is_digit(c), ascii && isdigit(b) != 0);
		ck_assert_int_eq(usch_is_lower(c), ascii && islower(b) != 0);
		ck_assert_int_eq(usch_is_upper(c), ascii && isupper(b) != 0);
		ck_assert_int_eq(usch_is_alpha(c), ascii && isalpha(b) != 0);
		ck_assert_int_eq(usch_is_alnum(c), ascii && isalnum(b) != 0);
		ck_assert_int_eq(usch_is_space(c), ascii && isspace(b) != 0);
	}
}
END_TEST

int main(void) {
	Suite *s = suite_create("chars");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, every_byte_matches_the_c_locale);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
