/*
 * A UDP echo server for the user-mode network tests (busybox has none): udpecho PORT. Each datagram
 * is also written to stdout as a line, so that a test sees it arrive even where no reply can return.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
        return 1;
    }
    for (;;) {
        char buf[2048];
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n > 0) {
            printf("%.*s\n", (int)n, buf);
            fflush(stdout);
            sendto(s, buf, n, 0, (struct sockaddr *)&from, len);
        }
    }
}
