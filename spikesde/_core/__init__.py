"""The event core: the event loop, simulate, solutions, Brownian paths, steppers and the interfaces
(neurons, currents, networks) that models fill in. Imports nothing from the rest of the package."""

from .brownian import AbstractBrownian, DiffraxBrownian, FineGridBrownian, GridBrownian
from .current import AbstractCurrent
from .clocks import neuron_clock_keys
from .coupling import AbstractCoupling, DenseCoupling, FanInCoupling
from .event_policy import AbstractEventPolicy, ParallelEvents, SequentialEvents
from .event_location import AbstractEventLocation, ExactEventLocation, GridEventLocation
from .network import Network, as_network
from .neuron import AbstractNeuron
from .reference import reference_simulate
from .simulate import simulate
from .solution import Solution
from .stepper import AbstractStepper, EulerMaruyama, ExponentialEuler
