package dev.clustermaster.os;

import java.io.IOException;

class WorkerChannelTest extends WorkerIpcContract {
    @Override
    WorkerIpc open(long sendTimeoutMillis) throws IOException {
        return WorkerChannel.open(sendTimeoutMillis);
    }

    @Override
    int workerWriteFd() {
        return 3;
    }

    @Override
    int bigLineBytes() {
        return 64 * 1024;   // socket buffers hold a few hundred KiB at most
    }
}
