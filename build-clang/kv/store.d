build-clang/kv/store.o: kv/store.c kv/store.h kv/buf.h

kv/store.h:

kv/buf.h:
