// OpenSSL's libcrypto (Debian libssl-dev): SHA-256 of the binary IR, vector manifests and sweep keys.
#include <openssl/evp.h>
