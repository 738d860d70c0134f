# The e2e's "unmodified Java app": the ITs' PlainHttpApp (one JDK-only source file under src/test/java),
# compiled on this host into $E2E_FILES/hello.jar once per run; sourced by the checks that install it.
# It answers "pid P worker N greeting G restart R" and prints "PlainHttpApp started in N ms" once it serves.
# shellcheck shell=bash
HELLO_READY='log:PlainHttpApp started'
if [ ! -s "$E2E_FILES/hello.jar" ]; then
    mkdir -p "$WORK/hello/classes"
    javac -d "$WORK/hello/classes" "$E2E_DIR/../../src/test/java/dev/clustermaster/apps/PlainHttpApp.java" \
        && jar --create --file "$E2E_FILES/hello.jar" --main-class dev.clustermaster.apps.PlainHttpApp \
            -C "$WORK/hello/classes" . || die "cannot build the e2e Java app"
fi
