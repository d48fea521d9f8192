// A pool file is one device: the machine that measured its first line measures all of it. A VM
// can come back on other hardware under the same name (this project's did, from an AMD EPYC to an
// Intel Xeon, between two sessions of one collection): its labels appended to the old file would
// be another device's, two to three times off, with nothing in the file to tell them apart.

export interface MachineId {
  cpu: string | undefined;
  cores: number;
}

/** Why this machine must not add to a file whose device line is `device`; undefined when it is the same one. */
export function machineMismatch(device: { cpu?: string; cores?: number } | undefined, here: MachineId, file: string): string | undefined {
  if (!device) return undefined;
  if (device.cpu === here.cpu && device.cores === here.cores) return undefined;
  return (
    `${file} was measured on ${device.cpu ?? 'an unknown CPU'} (${device.cores ?? '?'} cores) and this machine is ` +
    `${here.cpu ?? 'an unknown CPU'} (${here.cores} cores): a pool file is one device. Collect into another --out directory.`
  );
}
