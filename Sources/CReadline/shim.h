// GNU readline and its history library (libreadline-dev); stdio.h first, as readline.h expects.
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>
