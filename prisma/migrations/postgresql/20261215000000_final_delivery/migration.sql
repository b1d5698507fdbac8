-- AlterTable
ALTER TABLE "Job" ADD COLUMN "deliveringAt" TIMESTAMP(3),
ADD COLUMN "deliveredAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Job_deliveringAt_idx" ON "Job"("deliveringAt");
