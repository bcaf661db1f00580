package dev.berth.core;

import dev.berth.testing.RequiresRoot;

/** {@link UserModeNetworkTests} through pasta, as root. */
@RequiresRoot
class PastaNetworkIT extends UserModeNetworkTests {
    @Override
    String tool() {
        return "pasta";
    }
}
