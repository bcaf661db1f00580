package dev.berth.core;

import dev.berth.testing.RequiresRoot;

/** {@link UserModeNetworkTests} through slirp4netns, as root. */
@RequiresRoot
class Slirp4netnsNetworkIT extends UserModeNetworkTests {
    @Override
    String tool() {
        return "slirp4netns";
    }
}
