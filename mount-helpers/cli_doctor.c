/* placeholder, replaced below */
#include "mount-helpers/cli_i.h"
int cli_doctor_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return CLI_FAIL;
}
