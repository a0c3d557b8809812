/* keys_md.c - prints the README's key table from the declaration key
 * table (make readme-keys puts it between the README's markers). */
#include <stdio.h>
#include "decl.h"

int main(void) {
	usch_keys_markdown(stdout);
	return 0;
}
