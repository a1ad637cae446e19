# The algorithm suites of issue 6, item 3, in each implementation's syntax
# (sourced). suite_load NAME sets:
#   SUITE_IKE_SS  SUITE_ESP_SS    strongSwan proposals (ESP without PFS group)
#   SUITE_IKE_LSW SUITE_ESP_LSW   libreswan proposals (empty: libreswan refuses)
#   SUITE_PFS_SS  SUITE_PFS_LSW   the DH group for PFS in each syntax
#   IOS_ENC IOS_HASH IOS_GROUP    `crypto isakmp policy` lines
#   IOS_TS                        `crypto ipsec transform-set` transforms
#   IOS_PFS                       `set pfs` argument
#   WS_ENC WS_AUTH                (documentation) Wireshark esp_sa names
suite_load() {
    case "$1" in
    seed)   # the seed's: IOS 12.2 policy defaults + ted-transforms (strongSwan only:
            # libreswan 4.10 refuses DES and MODP-768)
        SUITE_IKE_SS=des-sha1-modp768;       SUITE_ESP_SS=des-md5
        SUITE_IKE_LSW=;                      SUITE_ESP_LSW=
        SUITE_PFS_SS=modp768;                SUITE_PFS_LSW=
        IOS_ENC=des; IOS_HASH=sha; IOS_GROUP=1
        IOS_TS="esp-des esp-md5-hmac";       IOS_PFS=group1
        WS_ENC='DES-CBC [RFC2405]';          WS_AUTH='HMAC-MD5-96 [RFC2403]' ;;
    3des)
        SUITE_IKE_SS=3des-sha1-modp1536;     SUITE_ESP_SS=3des-md5
        SUITE_IKE_LSW=3des-sha1-modp1536;    SUITE_ESP_LSW=3des-md5
        SUITE_PFS_SS=modp1536;               SUITE_PFS_LSW=modp1536
        IOS_ENC=3des; IOS_HASH=sha; IOS_GROUP=5
        IOS_TS="esp-3des esp-md5-hmac";      IOS_PFS=group5
        WS_ENC='TripleDES-CBC [RFC2451]';    WS_AUTH='HMAC-MD5-96 [RFC2403]' ;;
    aes128)
        SUITE_IKE_SS=aes128-sha256-modp2048; SUITE_ESP_SS=aes128-sha1
        SUITE_IKE_LSW=aes128-sha2_256-modp2048; SUITE_ESP_LSW=aes128-sha1
        SUITE_PFS_SS=modp2048;               SUITE_PFS_LSW=modp2048
        IOS_ENC="aes 128"; IOS_HASH=sha256; IOS_GROUP=14
        IOS_TS="esp-aes 128 esp-sha-hmac";   IOS_PFS=group14
        WS_ENC='AES-CBC [RFC3602]';          WS_AUTH='HMAC-SHA-1-96 [RFC2404]' ;;
    *) return 1 ;;
    esac
}
SUITES="seed 3des aes128"
