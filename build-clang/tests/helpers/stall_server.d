build-clang/tests/helpers/stall_server: tests/helpers/stall_server.c
