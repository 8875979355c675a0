from a import f, K
import a
