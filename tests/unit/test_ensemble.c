#include "es_test.h"
int main(void) { ES_TEST_END(); }
